from pesadesk.cli import main

main()
